"""Trajectory fans: quantile bands, median and a few sample cells, data vs model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.plot import _data as D
from cellsde.plot.style import (
    PALETTE,
    cellsde_style,
    figure_axes,
    role_style,
    time_label,
    with_units,
)


def _check_quantiles(quantiles: Sequence[float]) -> list[tuple[float, float]]:
    q = sorted(float(v) for v in quantiles)
    if len(q) % 2 or any(not 0.0 <= v <= 1.0 for v in q):
        raise ValueError(
            f"quantiles must be an even number of values in [0, 1] forming (low, high) pairs, "
            f"e.g. (0.05, 0.25, 0.75, 0.95); got {tuple(quantiles)}"
        )
    pairs = [(q[i], q[-1 - i]) for i in range(len(q) // 2)]  # outermost band first
    if any(lo >= hi for lo, hi in pairs):
        raise ValueError(f"quantile pairs {pairs} must have low < high")
    return pairs


def _quantiles(values: np.ndarray, probs: list[float]) -> np.ndarray:
    """NaN-aware quantiles over cells: (cell, time) -> (prob, time); NaN where no cell is observed."""
    out = np.full((len(probs), values.shape[1]), np.nan)
    seen = np.isfinite(values).any(0)  # (time,)
    if seen.any():
        out[:, seen] = np.nanquantile(values[:, seen], probs, axis=0)
    return out


def _pct(p: float) -> str:
    return f"{100 * p:.3g}"


def _draw(ax, t, values, *, role, label, pairs, n_samples, rng) -> None:
    """One population's bands, median and sample cells. ``values`` (cell, time)."""
    style = role_style(role)
    probs = [p for pair in pairs for p in pair] + [0.5]
    qs = _quantiles(values, probs)  # (prob, time)
    seen = np.isfinite(qs[-1])
    for k, (lo, hi) in enumerate(pairs):  # outermost first
        name = f"{label}: {_pct(lo)}–{_pct(hi)}%"
        if role == "data":  # grey filled bands, inner ones darker
            ax.fill_between(t[seen], qs[2 * k][seen], qs[2 * k + 1][seen],
                            color=PALETTE["data_band"], alpha=0.22 + 0.2 * k, lw=0,
                            label=name)  # fmt: skip
        else:  # light fill + dotted edges: the data bands stay visible underneath
            ax.fill_between(t[seen], qs[2 * k][seen], qs[2 * k + 1][seen],
                            facecolor=style["color"], alpha=0.08 + 0.1 * k, lw=0)  # fmt: skip
            ax.plot(t[seen], qs[2 * k][seen], color=style["color"], ls=":", lw=0.8 + 0.4 * k,
                    label=name)  # fmt: skip
            ax.plot(t[seen], qs[2 * k + 1][seen], color=style["color"], ls=":", lw=0.8 + 0.4 * k)
    # sample cells: the observed points of each, joined (NaN gaps bridged)
    candidates = np.flatnonzero(np.isfinite(values).sum(1) >= 2)
    pick = rng.choice(candidates, size=min(n_samples, candidates.size), replace=False)
    for i in np.sort(pick):
        ok = np.isfinite(values[i])
        ax.plot(t[ok], values[i, ok], color=style["color"], ls=style["linestyle"], lw=0.6,
                alpha=0.55)  # fmt: skip
    ax.plot(t[seen], qs[-1][seen], color=style["color"], ls=style["linestyle"], lw=2.0,
            label=f"{label}: median")  # fmt: skip


def trajectory_fan(
    data: xr.Dataset,
    *,
    species: str | None = None,
    model: xr.Dataset | None = None,
    quantiles: Sequence[float] = (0.05, 0.25, 0.75, 0.95),
    n_samples: int = 5,
    group=None,
    ax=None,
    seed: int = 0,
    labels: tuple[str, str] = ("data", "model"),
):
    """Quantile bands, median and a few sample cells of one species over time.

    Data are drawn as grey bands with a solid black median; a model dataset, when given, is
    overlaid in blue with a dashed median and dotted band edges, so the two stay apart in
    greyscale. Quantiles are taken over the cells observed at each time (NaN = not observed);
    times where no cell is observed are skipped; sample cells join their observed points.

    Parameters
    ----------
    data : xarray.Dataset
        ``x`` (cell, time, species), time coord with ``attrs["units"]``.
    species : str, optional
        Species to plot; may be omitted when the data have a single species.
    model : xarray.Dataset, optional
        Simulated cells to overlay, with the same species and time units (its time grid may
        differ).
    quantiles : sequence of float, default (0.05, 0.25, 0.75, 0.95)
        An even number of probabilities forming nested (low, high) bands.
    n_samples : int, default 5
        Sample cells drawn per population (cells with at least two observed times).
    group : int or str, optional
        Plot only the cells whose ``group`` coordinate equals this label (in both datasets).
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; a new figure (6.4 x 3.6 in) otherwise.
    seed : int, default 0
        Chooses the sample cells.
    labels : (str, str), default ("data", "model")
        Legend names of the two populations.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes. x: time in the data's time units; y: the species in
        ``x.attrs["units"]`` ("units not recorded" when none are).

    Raises
    ------
    cellsde.errors.SchemaError
        ``data`` or ``model`` has no ``x``.
    cellsde.errors.CellsdeError
        Unknown species or group, empty or all-NaN data.
    cellsde.errors.ModelMismatchError
        ``model`` lacks the species or uses other time / species units.
    """
    x = D.check_dataset(data, "data")
    name = D.pick_species(x, species, "data")
    pairs = _check_quantiles(quantiles)
    if int(n_samples) < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    populations = [(x, "data", labels[0])]
    if model is not None:
        populations.append((D.check_model(model, data, [name]), "model", labels[1]))
    rng = np.random.default_rng(seed)
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(6.4, 3.6))
        counts: list[str] = []
        for xx, role, label in populations:
            sub = D.select_group(xx, group, role)
            values = D.observed(sub.sel({S.SPECIES: name}).values, name, role)  # (cell, time)
            t = np.asarray(sub[S.TIME].values, dtype=np.float64)
            counts.append(f"{label} {values.shape[0]} cells")
            _draw(ax, t, values, role=role, label=label, pairs=pairs, n_samples=int(n_samples),
                  rng=rng)  # fmt: skip
        ax.set_xlabel(time_label(D.time_units(data)))
        ax.set_ylabel(with_units(name, D.species_units(data, name)))
        where = D.group_title(data, group)
        title = name if where is None else f"{name}, {where}"
        samples = f"; thin lines: {n_samples} sample cells each" if n_samples else ""
        ax.set_title(f"{title} ({', '.join(counts)}{samples})", loc="left")
        # legend below the axes, one column per population: never covers the curves
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=len(populations),
                  borderaxespad=0.0)  # fmt: skip
    return fig
