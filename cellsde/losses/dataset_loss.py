"""Time-decoupled squared W2 (tW2) between two cellsde Datasets.

The END-nSDE loss: for every group (population / ω) and every time after the first, the exact
squared W2 between the simulated and observed clouds of cells, summed over times and summed
(or averaged) over groups. See ``reference/end-nsde.md`` §2.

Pairing rules — ``obs`` defines what is compared and ``sim`` must contain it:

- species: ``species=None`` means all species of ``obs``; every compared species must exist in
  both datasets (``sim`` may carry more, e.g. all 52 NF-κB species against 2 observed ones);
- times: the time coordinate of ``obs``; each must match a time of ``sim`` (relative tolerance
  1e-9); ``sim`` may hold more times. Differing ``time`` units raise;
- groups: by label of the ``group`` coordinate on ``cell``; each ``obs`` group must exist in
  ``sim``. Without a ``group`` coordinate on both, all cells form one group labelled ``"all"``.

NaN rule: a cell with a NaN in any compared species at a time is unobserved there and is dropped
from that (group, time) cloud. If either cloud is then empty, the table entry is NaN and
:func:`tw2` skips it; :func:`tw2` raises if some group has no comparable time at all (e.g. all
of its observations are NaN).
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import ATTR_UNITS, CELL, GROUP, SPECIES, TIME, X_DIMS, X
from cellsde.errors import ModelMismatchError, SchemaError
from cellsde.losses.table import w2_table

REDUCTIONS = ("sum", "mean")
SINGLE_GROUP = "all"


def _x(ds: xr.Dataset, name: str) -> xr.DataArray:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(
            f"{name} must be an xarray.Dataset in the cellsde schema, got {type(ds).__name__}"
        )
    if X not in ds:
        raise SchemaError(f"{name} has no variable {X!r}; it has {sorted(map(str, ds.data_vars))}")
    x = ds[X]
    if set(x.dims) != set(X_DIMS):
        raise SchemaError(f"{name}[{X!r}] has dims {x.dims}; expected {X_DIMS}")
    for dim in (TIME, SPECIES):
        if dim not in x.coords:
            raise SchemaError(f"{name}[{X!r}] has no {dim!r} coordinate; add one")
    return x.transpose(*X_DIMS)  # (cell, time, species)


def _match_times(sim: xr.DataArray, obs: xr.DataArray) -> np.ndarray:
    u_sim, u_obs = sim[TIME].attrs.get(ATTR_UNITS), obs[TIME].attrs.get(ATTR_UNITS)
    if u_sim is not None and u_obs is not None and u_sim != u_obs:
        raise ModelMismatchError(f"time units differ: sim in {u_sim!r}, obs in {u_obs!r}")
    ts = np.asarray(sim[TIME].values, dtype=np.float64)
    to = np.asarray(obs[TIME].values, dtype=np.float64)
    scale = max(float(np.max(np.abs(to), initial=0.0)), 1.0)
    close = np.abs(to[:, None] - ts[None, :]) <= 1e-9 * scale  # (obs time, sim time)
    missing = to[~close.any(1)]
    if missing.size:
        raise ModelMismatchError(
            f"obs times {missing.tolist()} are not in sim (sim has {ts.size} times from "
            f"{ts.min(initial=np.nan)} to {ts.max(initial=np.nan)}); simulate at the observed times"
        )
    return close.argmax(1)  # index into sim times, per obs time


def _groups(x: xr.DataArray) -> np.ndarray | None:
    if GROUP not in x.coords:
        return None
    g = x[GROUP]
    if g.dims != (CELL,):
        raise SchemaError(f"coordinate {GROUP!r} must be on dim ({CELL!r},), got {g.dims}")
    return np.asarray(g.values)


def _clouds(
    values: np.ndarray, labels: np.ndarray | None, groups: list
) -> tuple[np.ndarray, np.ndarray]:
    """(cell, time, species) -> padded (group, time, cell, species) array and NaN-free mask."""
    idx = (
        [np.arange(values.shape[0])]
        if labels is None
        else [np.flatnonzero(labels == g) for g in groups]
    )
    width = max(1, max(len(i) for i in idx))
    out = np.full((len(idx), values.shape[1], width, values.shape[2]), np.nan)
    for k, i in enumerate(idx):
        out[k, :, : len(i)] = values[i].transpose(1, 0, 2)  # (time, cell, species)
    return out, ~np.isnan(out).any(-1)  # (G, T, N, d), (G, T, N)


def w2_per_time(
    sim: xr.Dataset,
    obs: xr.Dataset,
    *,
    species: list[str] | None = None,
    skip_first: bool = False,
    method: str = "exact",
    n_projections: int = 64,
    seed: int | None = None,
) -> xr.DataArray:
    """Squared W2 between simulated and observed cells for every (group, time).

    Parameters
    ----------
    sim, obs : xarray.Dataset
        Datasets in the cellsde schema: ``x`` (cell, time, species), optional coord ``group``
        on ``cell``. See the module docstring for how groups, times and species are paired.
    species : list of str, optional
        Coordinates to compare; default all species of ``obs``.
    skip_first : bool, default False
        Drop the first observed time from the table.
    method : {"exact", "sliced"}, default "exact"
        Passed to :func:`cellsde.losses.w2_squared`; ``"sliced"`` needs ``seed``.
    n_projections, seed
        Sliced W2 only.

    Returns
    -------
    xarray.DataArray, dims (group, time)
        Squared W2 in squared concentration units of the species; NaN where a cloud is empty.
        ``attrs`` record ``species`` and ``method``.
    """
    xs, xo = _x(sim, "sim"), _x(obs, "obs")
    names = [str(s) for s in xo[SPECIES].values] if species is None else [str(s) for s in species]
    if not names:
        raise ValueError("no species to compare; pass species=[...] or give obs a species")
    for side, x in (("sim", xs), ("obs", xo)):
        have = [str(s) for s in x[SPECIES].values]
        missing = [s for s in names if s not in have]
        if missing:
            raise ModelMismatchError(f"species {missing} are not in {side} (it has {have})")
    t_idx = _match_times(xs, xo)
    if skip_first:
        t_idx = t_idx[1:]
    times = xo[TIME].isel({TIME: slice(1 if skip_first else 0, None)})
    if t_idx.size == 0:
        raise ValueError("no time left to compare; obs has a single time and skip_first=True")

    gs, go = _groups(xs), _groups(xo)
    if (gs is None) != (go is None):
        side = "sim" if gs is None else "obs"
        raise SchemaError(f"{side} has no {GROUP!r} coordinate but the other dataset has one")
    if go is None:
        groups = [SINGLE_GROUP]
    else:
        groups = list(dict.fromkeys(go.tolist()))  # order of first appearance in obs
        missing = [g for g in groups if not np.any(gs == g)]
        if missing:
            raise ModelMismatchError(f"obs groups {missing} have no cells in sim")

    vs = xs.sel({SPECIES: names}).values[:, t_idx].astype(np.float64)  # (cell, time, d)
    vo = xo.sel({SPECIES: names}).isel({TIME: slice(1 if skip_first else 0, None)}).values
    a, am = _clouds(vs, gs, groups)  # (G, T, n, d), (G, T, n)
    b, bm = _clouds(np.asarray(vo, dtype=np.float64), go, groups)
    w2, ok = w2_table(
        torch.from_numpy(a),
        torch.from_numpy(b),
        sim_mask=torch.from_numpy(am),
        obs_mask=torch.from_numpy(bm),
        method=method,
        n_projections=n_projections,
        seed=seed,
    )  # (G, T); ok: both clouds non-empty
    table = np.where(ok.numpy(), w2.numpy(), np.nan)
    return xr.DataArray(
        table,
        dims=(GROUP, TIME),
        coords={GROUP: groups, TIME: times},
        name="w2_squared",
        attrs={"long_name": "squared Wasserstein-2 distance", "species": names, "method": method},
    )


def tw2(
    sim: xr.Dataset,
    obs: xr.Dataset,
    *,
    species: list[str] | None = None,
    reduce_groups: str = "sum",
    skip_first: bool = True,
    method: str = "exact",
    n_projections: int = 64,
    seed: int | None = None,
) -> float:
    """Time-decoupled squared W2 loss between a simulated and an observed Dataset.

    ``sum over times t > t0 of W2²(sim(t), obs(t))`` per group (no Δt weights), then summed or
    averaged over groups. Empty (group, time) clouds are skipped (see module docstring).

    Parameters
    ----------
    sim, obs : xarray.Dataset
        Datasets in the cellsde schema (see :func:`w2_per_time`).
    species : list of str, optional
        Compared coordinates; default all species of ``obs``.
    reduce_groups : {"sum", "mean"}, default "sum"
        END-nSDE uses the sum for circadian and NF-κB, the mean for RPA.
    skip_first : bool, default True
        Skip the first observed time (shared initial condition).
    method, n_projections, seed
        As in :func:`w2_per_time`.

    Returns
    -------
    float
        The loss, in squared concentration units.

    Raises
    ------
    ValueError
        If a group has no time at which both clouds have an observed cell.
    """
    if reduce_groups not in REDUCTIONS:
        raise ValueError(f"reduce_groups must be one of {REDUCTIONS}, got {reduce_groups!r}")
    table = w2_per_time(
        sim,
        obs,
        species=species,
        skip_first=skip_first,
        method=method,
        n_projections=n_projections,
        seed=seed,
    )
    empty = table.isnull().all(TIME)
    if bool(empty.any()):
        bad = [g for g, e in zip(table[GROUP].values.tolist(), empty.values) if e]
        raise ValueError(
            f"groups {bad} have no time with observed cells in both sim and obs (all NaN); "
            "drop these groups or check the data"
        )
    per_group = table.sum(TIME, skipna=True)  # (group,)
    return float(per_group.sum() if reduce_groups == "sum" else per_group.mean())
