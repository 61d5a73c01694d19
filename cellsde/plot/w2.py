"""Per-time squared W2 vs time for several models, with the sampling floor for reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError
from cellsde.plot import _data as D
from cellsde.plot.style import (
    cellsde_style,
    figure_axes,
    role_style,
    squared_units,
    time_label,
    with_units,
)

W2_VAR = "w2"  # the (group, time) table in cellsde.evaluation results
MAX_MARKERS = 40  # more evaluation times than this: plain lines (markers would merge)


def _auto_floor(
    data: xr.Dataset, species: list[str] | None, seed: int, n_sim: int | None
) -> xr.DataArray:
    """The split-halves floor of the data, rescaled to the model's sample sizes, (group, time).

    Two random halves of a group of N cells (N/2 vs N/2) give the floor of N/2-cell samples;
    a model scored with ``n_sim`` paths against the N cells compares samples of ``n_sim`` and
    N. With the 1/n rate of the expected squared W2 between two samples of one distribution
    (``E ~ c (1/n + 1/m)``, exact in 1-D for smooth densities), the halves' floor is multiplied
    by ``(1/n_sim + 1/N) / (4/N)`` (1/2 when ``n_sim = N``), so that a model is compared with
    what a perfect model scores at its own sizes instead of sitting "below the floor".
    """
    from cellsde.evaluation import sampling_floor

    D.check_dataset(data, "data")
    observed = None if species is None else tuple(species)
    floor = sampling_floor(data, seed=seed, observed=observed)[W2_VAR]  # (group, time)
    labels = np.asarray(data[S.GROUP].values) if S.GROUP in data.coords else None
    sizes = np.asarray(
        [int(np.sum(labels == g)) if labels is not None else data.sizes[S.CELL]
         for g in floor[S.GROUP].values], dtype=float,
    )  # fmt: skip
    n_model = sizes if n_sim is None else np.full_like(sizes, float(n_sim))
    half = np.floor(sizes / 2)
    factor = (1.0 / n_model + 1.0 / sizes) / (2.0 / half)
    return floor * xr.DataArray(factor, dims=S.GROUP, coords={S.GROUP: floor[S.GROUP].values})


def _as_curve(item, data, species, name: str) -> xr.DataArray:
    """A (time,) curve from a table, an evaluation Dataset, or simulated cells vs ``data``."""
    if isinstance(item, xr.Dataset) and S.X not in item and W2_VAR in item:
        item = item[W2_VAR]  # cellsde.evaluation.evaluate / sampling_floor output
    if isinstance(item, xr.Dataset):
        if data is None:
            raise CellsdeError(
                f"{name} is a Dataset; pass data=... to compare it with, or pass W2 tables"
            )
        from cellsde.losses import w2_per_time

        D.check_model(item, data, species or D.species_names(D.check_dataset(data, "data")))
        item = w2_per_time(item, data, species=species)
    if not isinstance(item, xr.DataArray):
        raise TypeError(
            f"{name} must be an xarray.DataArray (group, time) / (time,) or a Dataset, "
            f"got {type(item).__name__}"
        )
    if S.TIME not in item.dims:
        raise CellsdeError(f"{name} has no {S.TIME!r} dim; it has {item.dims}")
    extra = [d for d in item.dims if d != S.TIME]
    curve = item.mean(extra, skipna=True, keep_attrs=True) if extra else item  # mean over groups
    if curve.size == 0 or not np.isfinite(curve.values).any():
        raise CellsdeError(f"{name} has no finite W2 value to plot")
    return curve


def w2_over_time(
    tables,
    *,
    labels: Sequence[str] | None = None,
    data: xr.Dataset | None = None,
    species: list[str] | None = None,
    floor="auto",
    log: bool = False,
    ax=None,
    seed: int = 0,
):
    """Squared W2 per time for one or several models, with the sampling floor as a reference.

    The first entry is drawn as the model (blue, dashed, squares), the others as baselines
    (Okabe–Ito colours, dash-dot / dotted lines, distinct markers); the floor is a grey dotted
    line. Tables with a ``group`` dim are averaged over groups (NaN skipped). Each legend entry
    gives the curve's sum over times (the tW2 of the group-mean curve).

    Parameters
    ----------
    tables : DataArray, Dataset, or a sequence / mapping of them
        Per-time tables: DataArrays from :func:`cellsde.losses.w2_per_time` (dims
        (group, time) or (time,)), result Datasets of :func:`cellsde.evaluation.evaluate`
        (their ``w2``), or simulated Datasets (with ``x``), which are compared with ``data``.
        A mapping's keys are the labels.
    labels : sequence of str, optional
        Legend names in the order of ``tables`` (default "model", "baseline 1", ...).
    data : xarray.Dataset, optional
        Observed data: needed for Dataset entries and for ``floor="auto"``; gives the units.
    species : list of str, optional
        Species compared for Dataset entries and the floor (default: all of ``data``).
    floor : "auto", None, float, DataArray or Dataset
        ``"auto"``: the split-halves floor of ``data`` when given
        (:func:`cellsde.evaluation.sampling_floor` of the data alone: two random halves of
        each group compared), rescaled to the first table's sample sizes (its
        ``attrs["n_paths"]``, else the group sizes) by the 1/n rate of W2² (see
        :func:`_auto_floor`); None: no floor; a number, a (group, time) / (time,) table or a
        ``sampling_floor`` result: drawn as given.
    log : bool, default False
        Logarithmic y axis.
    ax : matplotlib.axes.Axes, optional
    seed : int
        Split used by the automatic floor.

    Returns
    -------
    matplotlib.figure.Figure
        x: time in its units; y: W2² in squared species units.
    """
    if isinstance(tables, Mapping):
        if labels is not None:
            raise ValueError("give labels either as the mapping's keys or as labels=, not both")
        labels, items = [str(k) for k in tables], list(tables.values())
    elif isinstance(tables, (xr.DataArray, xr.Dataset)):
        items = [tables]
    else:
        items = list(tables)
    if not items:
        raise CellsdeError("no W2 table to plot; pass one table or dataset per model")
    if labels is None:
        labels = ["model"] + [f"baseline {i}" for i in range(1, len(items))]
    labels = [str(v) for v in labels]
    if len(labels) != len(items):
        raise ValueError(f"{len(labels)} labels for {len(items)} tables")
    curves = [_as_curve(it, data, species, lab) for it, lab in zip(items, labels)]
    t_units = curves[0][S.TIME].attrs.get(S.ATTR_UNITS)
    units = curves[0].attrs.get(S.ATTR_UNITS)  # e.g. "squared species units" from evaluate
    units = None if units is None else str(units)
    squared = units is not None
    if data is not None:
        x = D.check_dataset(data, "data")
        t_units = D.time_units(data)
        names = species or D.species_names(x)
        found = {D.species_units(data, s) for s in names}
        units = found.pop() if len(found) == 1 else None
        squared = False
    if isinstance(floor, str):
        if floor != "auto":
            raise ValueError(f"floor must be 'auto', None, a number or a table; got {floor!r}")
        n_sim = items[0].attrs.get("n_paths") if isinstance(items[0], xr.Dataset) else None
        floor = None if data is None else _auto_floor(data, species, seed, n_sim)
        floor_label = "sampling floor (data halves, at the model's size)"
    elif isinstance(floor, xr.Dataset) and "size-matched" in str(floor.attrs.get("protocol")):
        floor_label = "sampling floor (the truth scored like the model)"
    else:
        floor_label = "sampling floor"
    if isinstance(floor, xr.Dataset):
        floor = _as_curve(floor, None, None, "floor")
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(5.6, 3.8))
        for k, (curve, lab) in enumerate(zip(curves, labels)):
            style = role_style("model") if k == 0 else role_style("baselines", k - 1)
            ok = np.isfinite(curve.values)
            t = np.asarray(curve[S.TIME].values, dtype=np.float64)
            total = float(np.nansum(curve.values))
            # a marker is a time W2 was computed at (data, never decoration): all or none
            marker = style["marker"] if ok.sum() <= MAX_MARKERS else ""
            ax.plot(t[ok], curve.values[ok], color=style["color"], ls=style["linestyle"],
                    marker=marker, label=f"{lab} (sum over times {total:.3g})")  # fmt: skip
        if floor is not None:
            fstyle = role_style("floor")
            if isinstance(floor, xr.DataArray):
                fc = _as_curve(floor, None, None, "floor")
                ok = np.isfinite(fc.values)
                ft = np.asarray(fc[S.TIME].values, dtype=np.float64)
                ax.plot(ft[ok], fc.values[ok], color=fstyle["color"], ls=fstyle["linestyle"],
                        lw=1.4, label=floor_label)  # fmt: skip
            else:
                ax.axhline(float(floor), color=fstyle["color"], ls=fstyle["linestyle"], lw=1.4,
                           label=floor_label)  # fmt: skip
        if log:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        sq = units if squared else squared_units(units)
        ax.set_xlabel(time_label(t_units))
        ax.set_ylabel(with_units("W2² per time", sq))
        ax.set_title("distance to the data over time (mean over groups)", loc="left")
        # below the axes: the curves can rise anywhere, the legend must not cover them
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, borderaxespad=0.0)
    return fig
