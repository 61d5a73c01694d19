"""Small multiples: one panel per group (condition), so populations are never pooled.

A fan or a density over cells of different conditions (25 ω groups, two ligands) shows a
mixture no cell follows. :func:`group_panels` draws :func:`~cellsde.plot.trajectory_fan` or
:func:`~cellsde.plot.marginals` once per group, on shared axes, each panel titled with its
group and condition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError
from cellsde.plot import _data as D
from cellsde.plot.style import cellsde_style


def panel_groups(data: xr.Dataset, groups: Sequence | None = None, *, max_panels: int = 12) -> list:
    """The groups to draw: ``groups`` (checked), else all, else ``max_panels`` evenly spaced.

    Data without a ``group`` coord give ``[None]`` (one panel of all cells).
    """
    if S.GROUP not in data.coords:
        if groups:
            raise CellsdeError("the data have no group coordinate; drop groups=")
        return [None]
    labels = list(dict.fromkeys(np.asarray(data[S.GROUP].values).tolist()))
    if groups is not None:
        missing = [g for g in groups if g not in labels]
        if missing:
            raise CellsdeError(
                f"groups {missing} are not in the data; its groups are {labels[:12]}"
            )
        return list(groups)
    if len(labels) <= max_panels:
        return labels
    pick = np.unique(np.linspace(0, len(labels) - 1, max_panels).round().astype(int))
    return [labels[i] for i in pick]


def group_panels(
    data: xr.Dataset,
    plot: Callable,
    *,
    species: str | None = None,
    model: xr.Dataset | None = None,
    groups: Sequence | None = None,
    max_panels: int = 12,
    ncols: int = 4,
    panel_size: tuple[float, float] = (3.0, 2.3),
    **options,
):
    """One panel per group: ``plot(data, species=..., model=..., group=g, ax=panel, **options)``.

    Parameters
    ----------
    data : xarray.Dataset
        ``x`` (cell, time, species) with a ``group`` coord (without one: a single panel).
    plot : callable
        :func:`cellsde.plot.trajectory_fan` or :func:`cellsde.plot.marginals` (any function
        with those keywords that draws into ``ax``).
    species : str, optional
        May be omitted for single-species data.
    model : xarray.Dataset, optional
        Simulated cells with the same group labels (see
        :func:`cellsde.datasets.conditions.pair_groups`); each panel overlays its group.
    groups : sequence, optional
        The groups to draw (default all, or ``max_panels`` of them evenly spaced).
    max_panels, ncols : int
        Most panels, and panels per row.
    panel_size : (float, float)
        Width and height of one panel in inches.
    **options
        Passed to ``plot`` (``times=`` for marginals, ``quantiles=`` for fans...).

    Returns
    -------
    matplotlib.figure.Figure
        Panels share their axes; each is titled with its group and condition; one legend.
    """
    from matplotlib.figure import Figure

    name = D.pick_species(D.check_dataset(data, "data"), species, "data")
    pool = data
    if model is not None and groups is None and S.GROUP in model.coords and S.GROUP in data.coords:
        both = np.isin(np.asarray(data[S.GROUP].values), np.asarray(model[S.GROUP].values))
        pool = data.isel({S.CELL: np.flatnonzero(both)})  # panels where both have cells
        if pool.sizes[S.CELL] == 0:
            raise CellsdeError("the model and the data share no group label; pair them first")
    chosen = panel_groups(pool, groups, max_panels=max_panels)
    n_all = (
        len(dict.fromkeys(np.asarray(data[S.GROUP].values).tolist()))
        if S.GROUP in data.coords
        else 1
    )
    cols = max(1, min(int(ncols), len(chosen)))
    rows = -(-len(chosen) // cols)
    with cellsde_style():
        fig = Figure(
            figsize=(panel_size[0] * cols, panel_size[1] * rows + 0.9), layout="constrained"
        )
        axes = np.atleast_1d(
            fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
        ).ravel()
        handles: tuple = ([], [])
        for k, (ax, g) in enumerate(zip(axes, chosen)):
            plot(data, species=name, model=model, group=g, ax=ax, **options)
            ax.set_title(_panel_title(data, g), loc="left", fontsize=8)
            legend = ax.get_legend()
            if legend is not None:  # one legend for the figure, below the panels
                handles = ax.get_legend_handles_labels()
                legend.remove()
            if k % cols:
                ax.set_ylabel("")
            if k + cols < len(chosen):
                ax.set_xlabel("")
            else:  # nothing below this panel: it shows the time ticks itself
                ax.xaxis.set_tick_params(labelbottom=True)
        for ax in axes[len(chosen) :]:
            ax.set_visible(False)
        if handles[0]:
            fig.legend(*handles, loc="outside lower center", ncols=min(4, len(handles[0])))
        shown = f"{len(chosen)} of {n_all} groups" if len(chosen) < n_all else f"{n_all} groups"
        fig.suptitle(f"{name}, one panel per group ({shown})", x=0.01, ha="left", fontsize=9)
    return fig


def _panel_title(data: xr.Dataset, group) -> str:
    """``"group TNF, TNF 10 ng/mL (60 cells)"``: which cells a panel shows."""
    n = (
        data.sizes[S.CELL]
        if group is None
        else int(np.sum(np.asarray(data[S.GROUP].values) == group))
    )
    return f"{D.group_title(data, group) or 'all cells'} ({n} cells)"
